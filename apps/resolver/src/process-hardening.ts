/**
 * Process-wide hardening, applied before anything else is loaded (main.ts's first import, so
 * cluster workers get it too). `npm run start:prod`, `npm start` and the image also start node
 * with `--disable-proto=delete`, which does the same; this covers every other way of starting
 * `main.js` (by hand, a process manager, a test).
 *
 * Without the `Object.prototype.__proto__` accessor, `obj["__proto__"] = value` on an object
 * built from untrusted JSON creates an own property instead of replacing the object's prototype,
 * and `obj.__proto__.x = …` cannot reach `Object.prototype`. The resolver's own code never uses
 * the accessor (it uses Object.getPrototypeOf / Object.create(null)); untrusted JSON is also
 * refused or copied by own keys where it enters (docs/security-model.md). This is the defence
 * behind those.
 */
export function hardenProcess(): void {
  if (Object.hasOwn(Object.prototype, '__proto__'))
    delete (Object.prototype as { __proto__?: unknown }).__proto__;
}

hardenProcess();
