// Stand-ins for what workerd itself provides to a Python Worker, for the Pyodide test run.
//
// The runtime SDK (`workers-runtime-sdk`, pure Python, installed from its wheel) is real. Only what
// workerd builds into the isolate is stood in for, each named as workerd names it (see workerd's
// `pyodide:python-entrypoint-helper`, embedded in the pinned workerd 1.20261117):
//
//   _pyodide_entrypoint_helper   provided by workerd: a JS module registered into Pyodide with
//                                cloudflareWorkersModule, cloudflareSocketsModule, doAnImport,
//                                patchWaitUntil, workerEntrypoint.
//   _cloudflare_compat_flags     provided by workerd: the Worker's compatibility flags (name -> bool).
//   cloudflare:workers           provided by workerd: the module with `env` and `waitUntil`
//                                (request-scoped in workerd; here one collector for the whole run).
//   ExecutionContext             provided by workerd: the `ctx` handed to a WorkerEntrypoint.
//
// Not stood in for: `_cloudflare` (workerd's import patches; the SDK's loader skips them when absent),
// `cloudflare:sockets` (nothing of ours uses raw sockets; connecting through it throws).

// Promises handed to waitUntil, so a test can wait for "after the response" work to finish.
// A Python exception reaches JS as a PythonError whose `type` names the exception class (its message
// can be empty when it comes from a Python future).
function describe(reason) {
  const name = reason?.type ?? reason?.name ?? "Error";
  return reason?.message ? `${name}: ${reason.message}` : String(reason?.type ?? reason);
}

export class WaitUntilCollector {
  constructor() {
    this.pending = [];
    this.total = 0;
  }

  // Like workerd, observe the outcome at once: a rejection here is the work's failure, reported by
  // drain(), not an unhandled rejection.
  add(promise) {
    this.total += 1;
    this.pending.push(
      Promise.resolve(promise).then(
        () => "fulfilled",
        (reason) => `rejected: ${describe(reason)}`,
      ),
    );
  }

  // Settle everything collected so far (and whatever that work hands to waitUntil in turn).
  // Answers the outcomes: "fulfilled" or "rejected: <error>".
  async drain() {
    const outcomes = [];
    while (this.pending.length) {
      outcomes.push(...(await Promise.all(this.pending.splice(0))));
    }
    return outcomes;
  }
}

// provided by workerd: the execution context of a request (`ctx` in `Default(ctx, env)`).
export class ExecutionContext {
  #collector;

  constructor(collector) {
    this.#collector = collector;
    this.props = {};
  }

  waitUntil(promise) {
    this.#collector.add(promise);
  }

  passThroughOnException() {}

  get [Symbol.toStringTag]() {
    return "ExecutionContext"; // workerd's patchWaitUntil checks exactly this tag
  }
}

// As workerd wraps waitUntil for Python: the argument is usually a PyProxy of a Python awaitable that
// Pyodide destroys when the call returns, so keep a copy until it settles, then destroy the copy.
function getPatchedWaitUntil(target) {
  const origWaitUntil = target.waitUntil.bind(target);
  return function waitUntil(p) {
    origWaitUntil(
      (async function () {
        if (p && typeof p === "object" && "copy" in p) p = p.copy();
        try {
          await p;
        } finally {
          if (p && typeof p === "object" && "destroy" in p) p.destroy();
        }
      })(),
    );
  };
}

const patched = new WeakSet();

// provided by workerd: patches ctx.waitUntil of a real ExecutionContext (called by the SDK's
// WorkerEntrypoint constructor).
function patchWaitUntil(ctx) {
  let tag;
  try {
    tag = Object.prototype.toString.call(ctx);
  } catch {}
  if (tag !== "[object ExecutionContext]" || patched.has(ctx)) return;
  ctx.waitUntil = getPatchedWaitUntil(ctx);
  patched.add(ctx);
}

// provided by workerd: the flags the compatibility date in wrangler.toml (2026-11-17) turns on, as far
// as Python code reads them (the SDK reads the python_* ones with getattr(..., False)).
export const COMPATIBILITY_FLAGS = {
  python_workers: true,
  python_workers_314: true, // on by date since 2026-09-08: Pyodide 314.0.6, the version pinned in package.json
  python_no_global_handlers: true,
  python_request_headers_preserve_commas: true,
  python_workflows_implicit_dependencies: true,
};

// Builds the three workerd-provided modules around one env object and one waitUntil collector.
export function createWorkerd(env, collector) {
  class WorkerEntrypoint {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }

  const workersModule = {
    env,
    waitUntil: (promise) => collector.add(promise),
    WorkerEntrypoint,
  };
  // workerd hands Python a proxy of cloudflare:workers whose waitUntil is the patched one.
  const patchedWaitUntil = getPatchedWaitUntil(workersModule);
  const cloudflareWorkersModule = new Proxy(workersModule, {
    get(target, prop, receiver) {
      return prop === "waitUntil" ? patchedWaitUntil : Reflect.get(target, prop, receiver);
    },
  });
  const cloudflareSocketsModule = {
    connect() {
      throw new Error("cloudflare:sockets is not available in the Pyodide test run");
    },
  };
  const modules = { "cloudflare:workers": cloudflareWorkersModule, "cloudflare:sockets": cloudflareSocketsModule };

  const entrypointHelper = {
    cloudflareWorkersModule,
    cloudflareSocketsModule,
    workerEntrypoint: WorkerEntrypoint,
    patchWaitUntil,
    async doAnImport(name) {
      if (name in modules) return modules[name];
      throw new Error(`No such module "${name}".`);
    },
  };

  return { entrypointHelper, compatibilityFlags: COMPATIBILITY_FLAGS };
}
