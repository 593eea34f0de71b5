package dev.granule.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for long scans, shown only when stderr is a terminal or the user asked
 * (--progress), so that pipes and logs never see control characters. Otherwise it does nothing.
 */
final class Progress implements AutoCloseable {

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    static Progress of(String task, long max, ProgressMode mode) {
        boolean show = switch (mode) {
            case always -> true;
            case never -> false;
            case auto -> System.console() != null && System.console().isTerminal();
        };
        if (!show) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).continuousUpdate().build();
        return new Progress(bar);
    }

    void step(long n) {
        if (bar != null) bar.stepBy(n);
    }

    void stepTo(long n) {
        if (bar != null) bar.stepTo(n);
    }

    void message(String extra) {
        if (bar != null) bar.setExtraMessage(extra);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }

    enum ProgressMode { auto, always, never }
}
