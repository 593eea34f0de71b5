package dev.granule.cli;

import dev.granule.impact.PageSizeImpact;
import dev.granule.impact.trace.ReplayResult;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The impact as one bar chart (XChart): for each page size, each cost as a percentage of its 4K
 * value, so that growth (resident memory) and savings (page tables, TLB entries, misses) read off
 * one axis; the legend carries the 4K absolute values. PNG or SVG, by the file's extension.
 */
final class ImpactChart {

    static final int WIDTH = 900, HEIGHT = 540;

    private ImpactChart() {}

    static CategoryChart build(List<PageSizeImpact> impact, List<ReplayResult> trace, String subject) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Cost of each page size relative to 4K: " + subject)
                .xAxisTitle("page size").yAxisTitle("% of the 4K value").build();
        Styler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendLayout(Styler.LegendLayout.Vertical);
        styler.setChartTitleFont(styler.getChartTitleFont().deriveFont(15f));
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        List<String> x = impact.stream().map(p -> p.granule().label()).toList();
        PageSizeImpact base = impact.getFirst();
        add(chart, x, impact, "resident memory (4K: " + Units.approx(base.resident()) + ")", PageSizeImpact::resident);
        add(chart, x, impact, "virtual size (4K: " + Units.approx(base.virtual()) + ")", PageSizeImpact::virtual);
        add(chart, x, impact, "page tables (4K: " + Units.approx(base.tableBytes()) + ")", PageSizeImpact::tableBytes);
        add(chart, x, impact, "TLB entries for the resident set (4K: " + base.tlbEntries() + ")", PageSizeImpact::tlbEntries);
        add(chart, x, impact, "TLB entries, blocks and contiguous runs (4K: " + base.tlbEntriesBestCase() + ")",
                PageSizeImpact::tlbEntriesBestCase);
        if (trace != null && !trace.isEmpty()) {
            // The first CPU's results, one per page size, in the order of the impact's page sizes.
            String cpu = trace.getFirst().cpu();
            List<ReplayResult> first = trace.stream().filter(r -> r.cpu().equals(cpu)).toList();
            if (first.size() == x.size()) {
                add(chart, x, first, "L2 TLB misses in the trace, " + cpu + " (4K: " + first.getFirst().l2Misses() + ")",
                        ReplayResult::l2Misses);
                add(chart, x, first, "walk references, walk cache (4K: " + first.getFirst().walkReferencesWithWalkCache() + ")",
                        ReplayResult::walkReferencesWithWalkCache);
            }
        }
        return chart;
    }

    private static <T> void add(CategoryChart chart, List<String> x, List<T> values, String name, ToDoubleFunction<T> value) {
        double base = value.applyAsDouble(values.getFirst());
        List<Double> y = new ArrayList<>();
        for (T v : values) y.add(base == 0 ? 0 : Math.round(1000 * value.applyAsDouble(v) / base) / 10.0);
        chart.addSeries(name, x, y);
    }

    static void checkExtension(Path file) {
        String lower = file.toString().toLowerCase();
        if (!lower.endsWith(".png") && !lower.endsWith(".svg")) {
            throw new UserException("--chart " + file + ": the file must end in .png or .svg");
        }
    }

    /** Writes {@code chart} as PNG or SVG, chosen by {@code file}'s extension. */
    static void save(CategoryChart chart, Path file) throws IOException {
        checkExtension(file);
        String name = file.toString();
        if (name.toLowerCase().endsWith(".png")) {
            BitmapEncoder.saveBitmap(chart, name, BitmapEncoder.BitmapFormat.PNG);
        } else {
            VectorGraphicsEncoder.saveVectorGraphic(chart, name, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        }
    }
}
