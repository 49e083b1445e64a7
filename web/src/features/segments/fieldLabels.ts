// Readable names for what a segment condition refers to: the `contact.` paths (the contact's
// field labels, and "Company › Industry" one relation away) and events with their properties
// (the registry's display names, "浏览商品" for Product Viewed).
import { useMemo } from 'react';
import { useObjects } from '../../api/queries';
import { useI18n } from '../../i18n/I18nProvider';
import { useEventNames } from '../cdp/eventNames';
import { filterFields } from '../records/filter/conditionModel';
import type { DescribeNames } from './model';

/** Labels of `contact.` paths for readable conditions. */
export function useContactFieldLabel(): (path: string) => string {
  const { label } = useI18n();
  const objects = useObjects();
  return useMemo(() => {
    const all = objects.data ?? [];
    const contact = all.find((o) => o.api_name === 'contact');
    const fields = contact ? filterFields(contact, all) : [];
    const byPath = new Map(fields.map((f) => [`contact.${f.path}`, f.via ? `${label(f.via)} › ${label(f.label)}` : label(f.label)]));
    return (path: string) => byPath.get(path) ?? path;
  }, [objects.data, label]);
}

/** Every name a condition's description needs, in the reader's language. */
export function useDescribeNames(): Required<DescribeNames> {
  const field = useContactFieldLabel();
  const events = useEventNames();
  return useMemo(() => ({ field, event: events.event, property: events.property }), [field, events]);
}
