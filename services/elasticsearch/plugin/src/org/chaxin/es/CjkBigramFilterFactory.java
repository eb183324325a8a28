package org.chaxin.es;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;

/**
 * The configurable `cjk_bigram` filter type, with analysis-common's `output_unigrams` setting.
 * Exact Chinese matching needs unigrams in the index so that a one-character value, or a run that
 * ends next to Latin text, still lines up with the indexed positions.
 */
final class CjkBigramFilterFactory extends AbstractTokenFilterFactory {
    private static final int ALL_SCRIPTS =
        CJKBigramFilter.HAN | CJKBigramFilter.HIRAGANA | CJKBigramFilter.KATAKANA | CJKBigramFilter.HANGUL;
    private final boolean outputUnigrams;

    CjkBigramFilterFactory(String name, Settings settings) {
        super(name, settings);
        this.outputUnigrams = settings.getAsBoolean("output_unigrams", false);
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new CJKBigramFilter(tokenStream, ALL_SCRIPTS, outputUnigrams);
    }
}
