// How a member is shown: the linked contact's name (a link to the contact), else the customer
// profile; and the columns of member tables (segments, previews, snapshots, diffs).
import { Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { Link } from 'react-router';
import { useI18n } from '../../i18n/I18nProvider';
import type { Member } from './api';

/** What segment members, preview samples and snapshot members (no name, no version) share. */
export type MemberLike = Pick<Member, 'profile_id' | 'contact_id' | 'email' | 'phone' | 'user_id'> & {
  contact_name?: string | null;
  entered_at?: string | null;
  version?: number | null;
};


export function MemberName({ member }: { member: MemberLike }) {
  const { t } = useI18n();
  const name = member.contact_name || member.email || member.phone || member.user_id || t('cdp.profiles.anonymous');
  if (member.contact_id) {
    return (
      <Link to={`/o/contact/${member.contact_id}`} data-testid="member-contact">
        {name}
      </Link>
    );
  }
  return <Link to={`/cdp/profiles/${member.profile_id}`}>{name}</Link>;
}

export function useMemberColumns(options: { entered?: boolean; version?: boolean } = {}): ColumnsType<MemberLike> {
  const i18n = useI18n();
  const { t } = i18n;
  return [
    { key: 'who', title: t('segments.members.customer'), render: (_, m) => <MemberName member={m} /> },
    { key: 'email', title: t('segments.members.email'), render: (_, m) => m.email ?? t('common.none') },
    { key: 'phone', title: t('segments.members.phone'), render: (_, m) => m.phone ?? t('common.none') },
    {
      key: 'user',
      title: t('segments.members.userId'),
      render: (_, m) => (m.user_id ? <Typography.Text code>{m.user_id}</Typography.Text> : t('common.none')),
    },
    ...(options.entered === false
      ? []
      : [{ key: 'entered', title: t('segments.members.enteredAt'), render: (_: unknown, m: MemberLike) => (m.entered_at ? i18n.dateTime(m.entered_at) : t('common.none')) }]),
    ...(options.version
      ? [{ key: 'version', title: t('segments.version'), render: (_: unknown, m: MemberLike) => (m.version ? `v${m.version}` : t('common.none')) }]
      : []),
  ];
}

/** A small table of members (samples of previews and diffs). */
export function MemberSample({ members, testId }: { members: MemberLike[]; testId?: string }) {
  const { t } = useI18n();
  const columns = useMemberColumns({ entered: false });
  return (
    <Table<MemberLike>
      size="small"
      rowKey="profile_id"
      dataSource={members}
      pagination={false}
      columns={columns}
      locale={{ emptyText: t('segments.preview.noSample') }}
      scroll={{ x: 'max-content' }}
      data-testid={testId}
    />
  );
}
