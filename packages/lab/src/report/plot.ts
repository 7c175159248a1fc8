/** One eta-map figure (all tensors above, conv/linear kernels below) written as PNG or SVG, for `lwlr lr --plot`. */
import { writeFileSync } from 'node:fs';
import type { EtaTableJSON } from 'layerwise-lr';
import { renderSVG, svgToPNG } from './render.js';
import { etaFigureSpec } from './specs.js';

/**
 * Writes the eta map of `table` to `file` (`.svg`, otherwise PNG at twice the SVG's size).
 * @example await plotEtaMap(table.toJSON(), 'docs/images/eta-map-resnet18-cifar.png', 'resnet18-cifar');
 */
export async function plotEtaMap(table: EtaTableJSON, file: string, title?: string): Promise<void> {
  const svg = await renderSVG(etaFigureSpec(table, title));
  writeFileSync(file, /\.svg$/i.test(file) ? svg : svgToPNG(svg));
}
