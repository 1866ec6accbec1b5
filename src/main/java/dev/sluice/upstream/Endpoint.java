package dev.sluice.upstream;

/** The OpenAI-shaped operations a provider can be asked for; the path is relative to the provider's base URL. */
public enum Endpoint {
  CHAT_COMPLETIONS("/chat/completions", "chat"), EMBEDDINGS("/embeddings", "embeddings");

  private final String path;
  private final String label;

  Endpoint(String path, String label) {
    this.path = path;
    this.label = label;
  }

  public String path() {
    return path;
  }

  /** Short bounded name for logs and metrics. */
  public String label() {
    return label;
  }
}
