package dev.granule.compat;

/** What a file or member is, told by its first bytes (magic numbers), never by its name. */
enum ContentType {
    ELF, ZIP, AR, TAR, GZIP, XZ, ZSTD, OTHER;

    /** Bytes needed to tell them apart: the tar magic "ustar" sits at offset 257. */
    static final int PROBE = 264;

    static ContentType of(byte[] head, int n) {
        if (n >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') return ELF;
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 && head[3] == 4 || head[2] == 5 && head[3] == 6)) return ZIP;
        if (n >= 8 && new String(head, 0, 8, java.nio.charset.StandardCharsets.ISO_8859_1).equals("!<arch>\n")) return AR;
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) return GZIP;
        if (n >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z' && head[5] == 0) return XZ;
        if (n >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f && (head[3] & 0xff) == 0xfd) return ZSTD;
        if (n >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a' && head[261] == 'r') return TAR;
        return OTHER;
    }

    boolean isArchive() {
        return this != ELF && this != OTHER;
    }
}
