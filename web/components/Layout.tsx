/**
 * The HTML page around every route: head with the stylesheets and the island bundle, a top
 * bar, the main column.
 * @module
 */
import type { ComponentChildren, VNode } from "preact";

/** Props of {@linkcode Layout}. */
export interface LayoutProps {
  title: string;
  children?: ComponentChildren;
}

/**
 * The page frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import { Layout } from "./Layout.tsx";
 * const html = renderToString(<Layout title="<b>">hi</Layout>);
 * assert.match(html, /<title>&lt;b> · diffusion runs<\/title>/);
 * ```
 */
export function Layout({ title, children }: LayoutProps): VNode {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · diffusion runs</title>
        <link rel="stylesheet" href="/static/build/vendor.css" />
        <link rel="stylesheet" href="/static/style.css" />
        <script type="module" src="/static/build/client.js" />
      </head>
      <body>
        <header class="topbar">
          <a href="/" class="brand">◐ diffusion runs</a>
          <nav>
            <a href="/">runs</a>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
