// A stand-in for the Workers AI binding (`env.AI`), for the Pyodide test run. workerd proxies the real
// binding to Cloudflare, so it is never local; this one answers text generation deterministically.
//
//   await env.AI.run(model, inputs)
//     inputs.messages       -> { response: "Binding reply to: <last user text>", tool_calls: [], usage: {...} }
//     inputs.stream = true  -> a ReadableStream of SSE bytes: data: {"response": "<word>"} per word, then
//                              data: {"response": "", "usage": {...}}, then data: [DONE]
//     "fail:<code>" in the last user text -> throws an Error "<code>: <Cloudflare's message>" (as the binding
//                              throws Workers AI errors)
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

export class Ai {
  constructor() {
    this.calls = []; // [model, inputs] as received (inputs as plain JSON)
  }

  async run(model, inputs) {
    const plain = JSON.parse(JSON.stringify(inputs ?? {}));
    this.calls.push([model, plain]);
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
    const encoder = new TextEncoder();
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
