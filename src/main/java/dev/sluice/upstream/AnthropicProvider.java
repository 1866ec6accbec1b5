package dev.sluice.upstream;

import dev.sluice.config.ProviderConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Anthropic's Messages API behind the OpenAI chat completions contract: {@code POST {base-url}/v1/messages} with
 * {@code x-api-key} and {@code anthropic-version} (a client's allow-listed {@code anthropic-version} and
 * {@code anthropic-beta} win). Requests and replies are translated by {@link AnthropicMessages}; streams by
 * {@link StreamTranslator}, whose first chunk (the role chunk from {@code message_start}) is the commit point.
 * Error bodies ({@code {"type":"error","error":{type,message}}}) are normalised by {@link ErrorBodies}; 529
 * {@code overloaded_error} stays a 529, which the error mapping treats as a retryable 5xx.
 */
public final class AnthropicProvider implements Provider {
  static final String VERSION = "2023-06-01";

  private final UpstreamClient client;
  private final String apiKey;
  private final int defaultMaxTokens;

  public AnthropicProvider(Vertx vertx, ProviderConfig config, int share) {
    this.client = new UpstreamClient(vertx, config, share);
    this.apiKey = config.apiKey();
    this.defaultMaxTokens = config.defaultMaxTokens();
  }

  @Override
  public Future<UpstreamReply> send(UpstreamRequest request) {
    if (request.endpoint() != Endpoint.CHAT_COMPLETIONS) {
      return Future.failedFuture(AnthropicMessages.invalid(null, "This model's provider does not support "
          + request.endpoint().label() + "."));
    }
    Buffer body;
    try {
      body = AnthropicMessages.toAnthropic(request.body(), request.model(), defaultMaxTokens, request.stream()).toBuffer();
    } catch (UpstreamFailure e) {
      return Future.failedFuture(e);
    }
    long created = System.currentTimeMillis() / 1000;
    String model = request.model();
    HttpAttempt.Dialect dialect = request.stream() ? new StreamTranslator(model, created) : new HttpAttempt.Dialect() {
      @Override
      public void onEvent(String event, String data, JsonObject json, Consumer<ChatChunk> out) {}

      @Override
      public JsonObject onBody(JsonObject json) {
        return AnthropicMessages.toOpenAi(json, model, created);
      }
    };
    return client.post(request, "/v1/messages", body, headers -> {
      headers.remove("authorization");
      headers.set("x-api-key", apiKey);
      if (!headers.contains("anthropic-version")) headers.set("anthropic-version", VERSION);
    }, dialect);
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }

  /**
   * Anthropic's named stream events → OpenAI chunks. OpenAI tool indexes count tool_use blocks (a text
   * block usually holds Anthropic index 0); usage is cumulative in {@code message_delta}, so the last value wins.
   * {@code ping}, {@code content_block_stop}, thinking and unknown events produce nothing, so they are neither the
   * commit point nor idle-timer progress.
   */
  static final class StreamTranslator implements HttpAttempt.Dialect {
    private final long created;
    private String id = "msg";
    private String model;
    private final Map<Integer, Integer> toolIndexByBlock = new HashMap<>();
    private final JsonObject usage = new JsonObject();

    StreamTranslator(String model, long created) {
      this.model = model;
      this.created = created;
    }

    @Override
    public void onEvent(String event, String data, JsonObject json, Consumer<ChatChunk> out) {
      String type = json.getValue("type") instanceof String t ? t : event == null ? "" : event;
      switch (type) {
        case "message_start" -> {
          JsonObject message = json.getValue("message") instanceof JsonObject m ? m : new JsonObject();
          if (message.getValue("id") instanceof String s) id = s;
          if (message.getValue("model") instanceof String s) model = s;
          if (message.getValue("usage") instanceof JsonObject u) usage.mergeIn(u);
          out.accept(chunk(new JsonObject().put("role", "assistant").put("content", ""), null));
        }
        case "content_block_start" -> {
          JsonObject block = json.getValue("content_block") instanceof JsonObject b ? b : new JsonObject();
          if ("tool_use".equals(block.getValue("type"))) {
            int k = toolIndexByBlock.size();
            toolIndexByBlock.put(blockIndex(json), k);
            JsonObject call = new JsonObject().put("index", k).put("id", block.getValue("id")).put("type", "function")
                .put("function", new JsonObject().put("name", block.getValue("name")).put("arguments", ""));
            out.accept(chunk(new JsonObject().put("tool_calls", new JsonArray().add(call)), null));
          } else if ("text".equals(block.getValue("type")) && block.getValue("text") instanceof String t && !t.isEmpty()) {
            out.accept(chunk(new JsonObject().put("content", t), null));
          }
        }
        case "content_block_delta" -> {
          JsonObject delta = json.getValue("delta") instanceof JsonObject d ? d : new JsonObject();
          Object deltaType = delta.getValue("type");
          if ("text_delta".equals(deltaType) && delta.getValue("text") instanceof String t) {
            out.accept(chunk(new JsonObject().put("content", t), null));
          } else if ("input_json_delta".equals(deltaType) && delta.getValue("partial_json") instanceof String p
              && !p.isEmpty()) {
            Integer k = toolIndexByBlock.get(blockIndex(json));
            if (k == null) throw UpstreamFailure.of(UpstreamFailure.Kind.BAD_RESPONSE, "input_json_delta outside a tool_use block");
            JsonObject call = new JsonObject().put("index", k).put("function", new JsonObject().put("arguments", p));
            out.accept(chunk(new JsonObject().put("tool_calls", new JsonArray().add(call)), null));
          }
        }
        case "message_delta" -> {
          if (json.getValue("usage") instanceof JsonObject u) usage.mergeIn(u);
          Object stopReason = json.getValue("delta") instanceof JsonObject d ? d.getValue("stop_reason") : null;
          out.accept(chunk(new JsonObject(), AnthropicMessages.finishReason(stopReason)));
        }
        case "message_stop" -> {
          JsonObject json2 = base().put("choices", new JsonArray()).put("usage", AnthropicMessages.usage(usage));
          out.accept(new ChatChunk(json2.encode(), json2));
          out.accept(ChatChunk.DONE);
        }
        default -> { } // ping, content_block_stop, and event types newer than this adapter
      }
    }

    private static int blockIndex(JsonObject json) {
      return json.getValue("index") instanceof Number n ? n.intValue() : -1;
    }

    private JsonObject base() {
      return new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
          .put("model", model).putNull("system_fingerprint");
    }

    private ChatChunk chunk(JsonObject delta, String finishReason) {
      JsonObject json = base().put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
          .putNull("logprobs").put("finish_reason", finishReason)));
      return new ChatChunk(json.encode(), json);
    }
  }
}
