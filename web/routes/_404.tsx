/**
 * The page a browser gets for a path, run or file the viewer does not have: what was not
 * found and the way back to the runs list (after Fresh's `_404.tsx`). Clients that do not ask
 * for HTML get the plain-text 404.
 * @module
 */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";

/**
 * The 404 page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import NotFound from "./_404.tsx";
 * assert.match(renderToString(<NotFound message="No run r9" path="/runs/r9" />), /back to the runs/);
 * ```
 */
export default function NotFound({ message, path }: { message: string; path: string }): VNode {
  return (
    <Layout title="Not found">
      <div class="not-found">
        <h1>Not found</h1>
        <p>{message}</p>
        <p class="sub">
          <code>{path}</code>
        </p>
        <p>
          <a href="/" class="button">← back to the runs list</a>
        </p>
      </div>
    </Layout>
  );
}

/**
 * A 404 response for `req`: the HTML page, saying what `plain` says, when the client asks for
 * HTML (a browser); else `plain` as it is.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notFoundFor } from "./_404.tsx";
 * const plain = () => new Response("No run r9\n", { status: 404, headers: { "content-type": "text/plain" } });
 * const browser = new Request("http://x/runs/r9", { headers: { accept: "text/html" } });
 * const res = await notFoundFor(browser, plain());
 * assert.equal(res.status, 404);
 * assert.match(await res.text(), /No run r9/);
 * const p = plain();
 * assert.equal(await notFoundFor(new Request("http://x/runs/r9"), p), p);
 * ```
 */
export async function notFoundFor(req: Request, plain: Response): Promise<Response> {
  if (!(req.headers.get("accept") ?? "").includes("text/html")) return plain;
  let message = "Nothing here.";
  if (plain.headers.get("content-type")?.startsWith("text/plain")) {
    message = (await plain.text()).trim().slice(0, 500) || message;
  } else await plain.body?.cancel();
  const html = renderToString(<NotFound message={message} path={new URL(req.url).pathname} />);
  return new Response("<!DOCTYPE html>" + html, {
    status: 404,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "x-content-type-options": "nosniff",
    },
  });
}
