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

/**
 * A label as the server takes it from a form: blank languages left out (the server gives them
 * the other language's text), nothing at all when both are blank.
 */
export function givenLabel(label?: { en?: string; zh?: string }): { en?: string; zh?: string } | undefined {
  const en = label?.en?.trim();
  const zh = label?.zh?.trim();
  if (!en && !zh) return undefined;
  return { ...(en ? { en } : {}), ...(zh ? { zh } : {}) };
}

/** A form rule for the Chinese input of the label at `path`: Chinese or English, either will do. */
export function eitherLanguage(path: (string | number)[], message: string) {
  return ({ getFieldValue }: { getFieldValue: (name: (string | number)[]) => unknown }) => ({
    validator() {
      const text = (lang: string) => String(getFieldValue([...path, lang]) ?? '').trim();
      return text('zh') || text('en') ? Promise.resolve() : Promise.reject(new Error(message));
    },
  });
}
