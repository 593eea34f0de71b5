package dev.granule.geometry;

/** A known boot parameter with a value that cannot be parsed. Names the offending token. */
public final class BootParameterException extends GeometryException {
    private final String token;

    public BootParameterException(String token, String problem) {
        super("bad boot parameter '" + token + "': " + problem);
        this.token = token;
    }

    /** The command-line token, exactly as given. */
    public String token() { return token; }
}
