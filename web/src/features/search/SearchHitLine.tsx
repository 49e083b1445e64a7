// One search result as a line: the object's icon, the record's name, what tells it apart from
// others of the same name (the matched email or serial number, its company, its owner), and
// the object it is.
import { Typography } from 'antd';
import { useObjects, useUsers } from '../../api/queries';
import type { SearchHit } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { objectIcon } from '../../app/objectIcons';

export function SearchHitLine({ hit }: { hit: SearchHit }) {
  const { label } = useI18n();
  const objects = useObjects();
  const users = useUsers();
  const object = objects.data?.find((o) => o.api_name === hit.object);
  const owner = users.data?.find((u) => u.id === hit.owner_id)?.name;
  const details = [hit.matched_value, hit.context, owner].filter((d): d is string => Boolean(d));
  return (
    <>
      {objectIcon(hit.object)}
      <span style={{ flex: 1, minWidth: 0 }}>
        <span>{hit.name}</span>
        {details.length > 0 && (
          <Typography.Text type="secondary" style={{ fontSize: 12, marginInlineStart: 8 }} data-testid="hit-details">
            {details.join(' · ')}
          </Typography.Text>
        )}
      </span>
      <Typography.Text type="secondary">{object ? label(object.label) : hit.object}</Typography.Text>
    </>
  );
}
