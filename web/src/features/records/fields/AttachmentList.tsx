// The files of an attachment field: pictures as thumbnails, other files as links with their
// name and size; each opens the stored file. With `onRemove` (the input), each can be removed.
import { Button, Tooltip } from 'antd';
import { CloseOutlined, PaperClipOutlined } from '@ant-design/icons';
import type { FileDescriptor } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { fileSize, fileUrl, isImage } from './files';

interface Props {
  files: FileDescriptor[];
  /** Thumbnail height in pixels. */
  thumbnail?: number;
  onRemove?: (file: FileDescriptor) => void;
}

export function AttachmentList({ files, thumbnail = 28, onRemove }: Props) {
  const { t } = useI18n();
  return (
    <span style={{ display: 'inline-flex', flexWrap: 'wrap', gap: 6, alignItems: 'center', maxWidth: '100%' }} data-testid="attachments">
      {files.map((file) => (
        <span key={file.id} style={{ display: 'inline-flex', alignItems: 'center', gap: 2, minWidth: 0 }} data-testid="attachment">
          <Tooltip title={file.size > 0 ? `${file.name} · ${fileSize(file.size)}` : file.name}>
            <a href={fileUrl(file.id)} target="_blank" rel="noreferrer noopener" style={{ display: 'inline-flex', alignItems: 'center', gap: 4, minWidth: 0 }}>
              {isImage(file) ? (
                <img
                  src={fileUrl(file.id)}
                  alt={file.name}
                  loading="lazy"
                  style={{ height: thumbnail, maxWidth: thumbnail * 2, objectFit: 'cover', borderRadius: 4, border: '1px solid #f0f0f0' }}
                />
              ) : (
                <>
                  <PaperClipOutlined />
                  <span style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{file.name}</span>
                </>
              )}
            </a>
          </Tooltip>
          {onRemove && (
            <Button size="small" type="text" icon={<CloseOutlined />} aria-label={t('field.removeFile', { name: file.name })} onClick={() => onRemove(file)} />
          )}
        </span>
      ))}
    </span>
  );
}
