// A stand-in for the Workers AI binding (`env.AI`), for the Pyodide test run. workerd proxies the real
// binding to Cloudflare, so it is never local; this one answers text generation deterministically.
//
//   await env.AI.run(model, inputs)
//     inputs.messages       -> { response: "Binding reply to: <last user text>", tool_calls: [], usage: {...} }
//     inputs.stream = true  -> a ReadableStream of SSE bytes: data: {"response": "<word>"} per word, then
//                              data: {"response": "", "usage": {...}}, then data: [DONE]
//     "fail:<code>" in the last user text -> throws an Error "<code>: <Cloudflare's message>" (as the binding
//                              throws Workers AI errors)
//     inputs.text (embeddings, @cf/baai/bge-*) -> { shape: [n, 4], data: [[…4 floats] per text], pooling: "mean" }
//                              (vector of a text: [length, words, first char code, 1] / 100)
//     @cf/myshell-ai/melotts {prompt, lang} -> { audio: base64 of ("ID3" + "melotts|<lang>|<prompt>") }
//     @cf/deepgram/aura-* {text, speaker} -> a ReadableStream of the audio bytes (no JSON, as the real binding
//                              answers): "ID3" + "aura|<speaker or angus>|<text>", in two chunks
//     @cf/stabilityai/stable-diffusion-xl-base-1.0 {prompt} -> a ReadableStream of a PNG: the PNG signature + prompt
//     inputs.binary_as = "uint8array" | "arraybuffer" (a stand-in knob, with aura/SDXL) -> the same bytes as a
//                              Uint8Array or an ArrayBuffer, the other binary shapes workers-types allows
//
// The class is named `Ai`, as workerd's binding is: the runtime SDK wraps env bindings by constructor name.
// Token counts: prompt = words of every message's text + 4 per message; completion = words of the reply.

const MESSAGES = {
  3036: "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
  3040: "Capacity temporarily exceeded, please try again.",
  5007: "No such model or task",
};

function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.filter((p) => p?.type === "text").map((p) => p.text ?? "").join(" ");
  return "";
}

const words = (s) => s.split(/\s+/).filter(Boolean);
const encoder = new TextEncoder();
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

// A file-producing model's bytes, in the shape the binding gives them.
function binary(bytes, as) {
  if (as === "uint8array") return bytes;
  if (as === "arraybuffer") return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const half = Math.ceil(bytes.length / 2);
  const chunks = [bytes.slice(0, half), bytes.slice(half)];
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

function failIn(textValue) {
  const failure = /fail:(\d+)/.exec(textValue ?? "");
  if (failure) {
    const code = Number(failure[1]);
    throw new Error(`${code}: ${MESSAGES[code] ?? "Internal server error"}`);
  }
}

function otherTask(model, plain) {
  if (model.startsWith("@cf/baai/bge-")) {
    const texts = Array.isArray(plain.text) ? plain.text : [plain.text];
    texts.forEach(failIn);
    const data = texts.map((t) => [t.length, words(t).length, t.charCodeAt(0) || 0, 1].map((v) => v / 100));
    return { shape: [data.length, 4], data, pooling: "mean" };
  }
  if (model === "@cf/myshell-ai/melotts") {
    failIn(plain.prompt);
    const bytes = concat(encoder.encode("ID3"), encoder.encode(`melotts|${plain.lang ?? "en"}|${plain.prompt}`));
    return { audio: btoa(String.fromCharCode(...bytes)) };
  }
  if (model.startsWith("@cf/deepgram/aura-")) {
    failIn(plain.text);
    return binary(concat(encoder.encode("ID3"), encoder.encode(`aura|${plain.speaker ?? "angus"}|${plain.text}`)),
                  plain.binary_as);
  }
  if (model === "@cf/stabilityai/stable-diffusion-xl-base-1.0") {
    failIn(plain.prompt);
    return binary(concat(new Uint8Array(PNG), encoder.encode(plain.prompt ?? "")), plain.binary_as);
  }
  return undefined;
}

export class Ai {
  constructor() {
    this.calls = []; // [model, inputs] as received (inputs as plain JSON)
  }

  async run(model, inputs) {
    const plain = JSON.parse(JSON.stringify(inputs ?? {}));
    this.calls.push([model, plain]);
    const other = otherTask(model, plain);
    if (other !== undefined) return other;
    const messages = plain.messages ?? [];
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const question = text(lastUser?.content);
    const failure = /fail:(\d+)/.exec(question);
    if (failure) {
      const code = Number(failure[1]);
      throw new Error(`${code}: ${MESSAGES[code] ?? "Internal server error"}`);
    }
    let reply = words(`Binding reply to: ${question}`);
    if (Number.isInteger(plain.max_tokens) && plain.max_tokens < reply.length) reply = reply.slice(0, plain.max_tokens);
    const prompt = messages.reduce((sum, m) => sum + words(text(m.content)).length + 4, 0);
    const usage = { prompt_tokens: prompt, completion_tokens: reply.length, total_tokens: prompt + reply.length };
    if (!plain.stream) return { response: reply.join(" "), tool_calls: [], usage };
    const events = [
      ...reply.map((word, i) => `data: ${JSON.stringify({ response: i ? ` ${word}` : word, p: "ab" })}\n\n`),
      `data: ${JSON.stringify({ response: "", usage })}\n\n`,
      "data: [DONE]\n\n",
    ];
    return new ReadableStream({
      pull(controller) {
        const next = events.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(encoder.encode(next));
      },
    });
  }
}

export function createAi() {
  return new Ai();
}
