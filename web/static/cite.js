// Copy buttons of the record page's 引用 box: shown only where the Clipboard API works.
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll(".cite-copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "已复制";
        setTimeout(function () { button.textContent = "复制"; }, 2000);
      }, function () {
        button.textContent = "请手动复制";
      });
    });
  });
})();
