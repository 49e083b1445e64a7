// Addresses in the terms of the national region list: the text an address reads as (上海市 徐汇区
// 漕溪北路 88 号, the same in both languages), and the region tree as the pickers show it, without
// the list's placeholder cities (the municipalities' 市辖区, 县, 省直辖县级行政区划): their districts
// and counties sit directly under the province, so Shanghai is 上海市 › 徐汇区. Pure, so it is
// unit-tested.
import type { AddressValue, Region } from '../../../api/types';

/** City-level entries of the region list that name no city. */
const PLACEHOLDER_CITIES = new Set(['市辖区', '县', '省直辖县级行政区划', '自治区直辖县级行政区划']);

/** An address as one line: province, city (unless a placeholder or the province again), district, street. */
export function addressText(value: AddressValue): string {
  const { province, city, district, street } = value;
  const shownCity = city && city !== province && !PLACEHOLDER_CITIES.has(city) ? city : undefined;
  return [province, shownCity, district, street]
    .map((part) => part?.trim())
    .filter(Boolean)
    .join(' ');
}

/** The region tree as pickers show it: a placeholder city's children move up into its province. */
export function pickerRegions(tree: Region[]): Region[] {
  return tree.map((province) => {
    const children = (province.children ?? []).flatMap((city) => (PLACEHOLDER_CITIES.has(city.name) ? city.children ?? [] : [city]));
    return { ...province, children: children.length > 0 ? children : undefined };
  });
}

export interface RegionEntry {
  /** The codes from the province down to this region, as a picker's value. */
  path: string[];
  /** The names from the province down (上海市 徐汇区). */
  label: string;
}

/** Every region of a picker tree by code. */
export function regionIndex(tree: Region[]): Map<string, RegionEntry> {
  const index = new Map<string, RegionEntry>();
  const visit = (nodes: Region[], path: string[], names: string[]) => {
    for (const node of nodes) {
      const entry = { path: [...path, node.code], label: [...names, node.name].join(' ') };
      index.set(node.code, entry);
      if (node.children) visit(node.children, entry.path, [...names, node.name]);
    }
  };
  visit(tree, [], []);
  return index;
}

/**
 * What an address input writes (the server fills in the names): the region and the street as
 * typed (trimmed when the input is left), or null for neither.
 */
export function addressInput(code: string | undefined, street: string | undefined): { code?: string; street?: string } | null {
  const typed = street?.trim() ? street : undefined;
  if (!code && !typed) return null;
  return { ...(code ? { code } : {}), ...(typed ? { street: typed } : {}) };
}
