// Suggests an API name from an English label: lowercase ASCII letters, digits and `_`,
// starting with a letter ("Serial number" → "serial_number").
export function suggestApiName(label: string): string {
  const slug = label
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^[0-9_]+/, '')
    .slice(0, 48);
  return slug;
}
