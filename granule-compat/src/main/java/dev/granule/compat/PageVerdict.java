package dev.granule.compat;

import java.util.List;

/**
 * Whether one ELF loads at one page size: {@code problems} say why not (empty: it loads),
 * {@code warnings} what loads but is weakened (permissions merged in one page, RELRO tail left writable).
 */
public record PageVerdict(long pageSize, List<String> problems, List<String> warnings) {
    public PageVerdict {
        problems = List.copyOf(problems);
        warnings = List.copyOf(warnings);
    }

    public boolean loads() {
        return problems.isEmpty();
    }
}
