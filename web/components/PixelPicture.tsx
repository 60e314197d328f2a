/**
 * A picture drawn at a whole-number scale (1x, 2x, …, never a fractional downscale, pixels
 * kept sharp), with the t of each frame under it when given, that a click enlarges in a
 * dialog (Escape, the close button or a click beside it closes it). Used inside islands.
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { VNode } from "preact";

/** Props of {@linkcode PixelPicture}. */
export interface PixelPictureProps {
  src: string;
  alt: string;
  /** Natural size in pixels, when known (else taken from the image once loaded). */
  width?: number | null;
  height?: number | null;
  /** The t of each frame, left to right (frames of equal width). */
  t?: number[] | null;
  /** Largest scale in the page. @default 4 */
  maxScale?: number;
  /** Width the page is assumed to have before the browser measures it. @default 1100 */
  assumedWidth?: number;
  /** Class of the `<img>`. */
  imgClass?: string;
}

/**
 * The largest whole-number scale at which `natural` pixels fit in `room` (at least 1, at most
 * `max`): a picture wider than its room is drawn at 1x and scrolls rather than shrinks.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { integerScale } from "./PixelPicture.tsx";
 * assert.equal(integerScale(466, 1100, 4), 2);
 * assert.equal(integerScale(466, 420, 4), 1);
 * assert.equal(integerScale(28, 1100, 4), 4);
 * ```
 */
export function integerScale(natural: number, room: number, max: number): number {
  if (!(natural > 0)) return 1;
  return Math.max(1, Math.min(max, Math.floor(room / natural)));
}

function Labels({ t, width }: { t: number[]; width: number }): VNode {
  return (
    <div
      class="frame-labels"
      style={{ width: `${width}px`, gridTemplateColumns: `repeat(${t.length}, 1fr)` }}
      aria-label="t of each frame"
    >
      {t.map((v, i) => <span key={i} data-t={v}>{v}</span>)}
    </div>
  );
}

/**
 * The picture.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import { PixelPicture } from "./PixelPicture.tsx";
 * const html = renderToString(
 *   <PixelPicture src="/a.png" alt="a" width={342} height={246} t={[0, 999]} />,
 * );
 * assert.match(html, /width="1026"/); // 3x in the assumed 1,100 px
 * assert.match(html, /data-t="999"/);
 * ```
 */
export function PixelPicture(props: PixelPictureProps): VNode {
  const max = props.maxScale ?? 4;
  const [size, setSize] = useState<{ w: number; h: number } | null>(
    props.width && props.height ? { w: props.width, h: props.height } : null,
  );
  const [scale, setScale] = useState(
    size ? integerScale(size.w, props.assumedWidth ?? 1100, max) : 1,
  );
  const [big, setBig] = useState(1);
  const figure = useRef<HTMLElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  // The scale follows the room the page gives the picture.
  useEffect(() => {
    const el = figure.current?.parentElement;
    if (!el || !size) return;
    const fit = () => {
      const style = getComputedStyle(el);
      const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      setScale(integerScale(size.w, room, max));
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, [size?.w]);

  const open = () => {
    const d = dialog.current;
    if (!d || !size) return;
    const fit = Math.min((innerWidth - 80) / size.w, (innerHeight - 160) / size.h);
    setBig(Math.max(1, Math.min(16, Math.floor(fit))));
    d.showModal();
  };
  const w = size ? size.w * scale : undefined, h = size ? size.h * scale : undefined;
  const t = props.t && props.t.length > 0 ? props.t : null;
  return (
    <figure class="picture" ref={figure}>
      <div class="picture-scroll">
        <button
          type="button"
          class="zoomable"
          onClick={open}
          title="click to enlarge"
          aria-label={`enlarge: ${props.alt}`}
        >
          <img
            class={`pixelated ${props.imgClass ?? ""}`.trim()}
            src={props.src}
            alt={props.alt}
            width={w}
            height={h}
            data-scale={size ? scale : undefined}
            onLoad={(e) => {
              const img = e.target as HTMLImageElement;
              if (!size) setSize({ w: img.naturalWidth, h: img.naturalHeight });
            }}
          />
        </button>
        {t && w ? <Labels t={t} width={w} /> : null}
      </div>
      {t
        ? <figcaption class="sub">t of each frame (0 is the data, larger is noisier)</figcaption>
        : null}
      <dialog
        class="lightbox"
        ref={dialog}
        aria-label={props.alt}
        onClick={(e) => {
          if (e.target === dialog.current) dialog.current?.close();
        }}
      >
        <div class="lightbox-head">
          <span>
            {props.alt} · {big}x
          </span>
          <button type="button" class="close" onClick={() => dialog.current?.close()}>
            close (Esc)
          </button>
        </div>
        <div class="lightbox-body">
          <img
            class="pixelated"
            src={props.src}
            alt={props.alt}
            width={size ? size.w * big : undefined}
            height={size ? size.h * big : undefined}
          />
          {t && size ? <Labels t={t} width={size.w * big} /> : null}
        </div>
      </dialog>
    </figure>
  );
}
