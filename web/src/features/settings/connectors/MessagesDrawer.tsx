// A connector's send log: its latest 50 sends, newest first and refreshed every few seconds,
// each with its state, time, whether it was a test or a queued send, attempts and error, and
// unfolding to the message, what was sent and what came back.
import { Drawer, Empty, Table, Tag, Typography } from 'antd';
import { useI18n } from '../../../i18n/I18nProvider';
import { PageError } from '../../../app/PageState';
import { useSendLog, type Connector, type SendLog } from './api';
import { SendDetail, StateTag } from './SendDetail';

export function MessagesDrawer({ connector, onClose }: { connector: Pick<Connector, 'id' | 'name'>; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const log = useSendLog(connector.id);
  return (
    <Drawer open onClose={onClose} size="large" title={t('connectors.logOf', { name: connector.name })} data-testid="connector-log">
      {log.error ? (
        <PageError error={log.error} onRetry={() => log.refetch()} />
      ) : (
        <Table<SendLog>
          rowKey="id"
          size="small"
          loading={log.isLoading}
          dataSource={log.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          data-testid="send-log-table"
          locale={{ emptyText: <Empty description={t('connectors.noSends')} /> }}
          expandable={{ expandedRowRender: (l) => <SendDetail log={l} showMessage /> }}
          columns={[
            { key: 'at', title: t('connectors.time'), render: (_, l) => <span style={{ whiteSpace: 'nowrap' }}>{i18n.dateTime(l.created_at)}</span> },
            { key: 'state', title: t('connectors.state'), render: (_, l) => <StateTag state={l.state} /> },
            { key: 'origin', title: t('connectors.origin'), render: (_, l) => <Tag>{l.test ? t('connectors.origin.test') : t('connectors.origin.queued')}</Tag> },
            { key: 'attempts', title: t('connectors.attempts'), render: (_, l) => i18n.number(l.attempts) },
            {
              key: 'error',
              title: t('connectors.error'),
              render: (_, l) =>
                l.error ? (
                  <Typography.Text type="danger" style={{ maxWidth: 260 }} ellipsis={{ tooltip: l.error }}>
                    {l.error}
                  </Typography.Text>
                ) : (
                  t('common.none')
                ),
            },
          ]}
        />
      )}
    </Drawer>
  );
}
