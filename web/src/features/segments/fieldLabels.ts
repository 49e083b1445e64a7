// Readable names of the `contact.` paths a segment condition uses (the contact's field labels,
// and "Company › Industry" one relation away).
import { useMemo } from 'react';
import { useObjects } from '../../api/queries';
import { useI18n } from '../../i18n/I18nProvider';
import { filterFields } from '../records/filter/conditionModel';

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
