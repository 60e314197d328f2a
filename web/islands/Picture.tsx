/**
 * A run's picture (the forward process, the denoising trajectory) as an island: drawn at a
 * whole-number scale with the t of each frame under it, enlarged by a click.
 * @module
 */
import type { VNode } from "preact";
import { PixelPicture, type PixelPictureProps } from "../components/PixelPicture.tsx";

/** Props of {@linkcode Picture}: those of `PixelPicture`, all serializable. */
export type PictureProps = PixelPictureProps;

/**
 * The picture island.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import Picture from "./Picture.tsx";
 * const html = renderToString(<Picture src="/f.png" alt="forward" width={400} height={40} />);
 * assert.match(html, /<dialog class="lightbox"/);
 * ```
 */
export default function Picture(props: PictureProps): VNode {
  return <PixelPicture {...props} />;
}
