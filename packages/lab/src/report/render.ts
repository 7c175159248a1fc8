/**
 * Vega-Lite spec -> SVG (vega, headless: no DOM, no canvas) -> PNG (resvg, DejaVu fonts from /usr/share/fonts).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { FONT } from './specs.js';

/**
 * Renders a Vega-Lite spec to an SVG string.
 * @example writeFileSync('eta.svg', await renderSVG(etaMapSpec(table)));
 */
export async function renderSVG(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The width and height an SVG string declares. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('SVG without width/height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * Rasterizes an SVG at `scale` (2: PNG of twice the SVG's size, crisp on high-DPI screens and in papers).
 * @example writeFileSync('eta.png', svgToPNG(svg));
 */
export function svgToPNG(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: false, fontDirs: ['/usr/share/fonts'], defaultFontFamily: FONT, sansSerifFamily: FONT },
    background: 'white',
  });
  return r.render().asPng();
}
