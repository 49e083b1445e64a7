// The files of an attachment field being edited. Each chosen file is uploaded at once (one
// multipart part `file` to the field's upload endpoint) and the value becomes the list of file
// ids the record write carries. The field's limits are shown; a file over the size limit or
// past the count is refused before it is sent, and the server's refusals (too large, not an
// image) are said in the user's language.
import { App, Button, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, apiPath } from '../../../api/client';
import type { FieldDef, FileDescriptor, StoredFile } from '../../../api/types';
import { useI18n } from '../../../i18n/I18nProvider';
import { errorCodeText } from '../../../i18n/codes';
import { errorMessage } from '../../../app/errorMessage';
import { AttachmentList } from './AttachmentList';
import { asFiles } from './files';

const IMAGE_ACCEPT = 'image/png,image/jpeg,image/gif,image/webp';

interface Props {
  object: string;
  field: FieldDef;
  value?: unknown;
  onChange: (ids: string[] | null) => void;
  id?: string;
  'aria-label'?: string;
}

export function AttachmentInput({ object, field, value, onChange, id, 'aria-label': ariaLabel }: Props) {
  const i18n = useI18n();
  const { t } = i18n;
  const { message } = App.useApp();
  // Once changed here the value holds ids only: the files' names and types are kept here.
  const [known, setKnown] = useState<FileDescriptor[]>([]);
  const files = asFiles(value, t('field.file')).map((f) => known.find((k) => k.id === f.id) ?? f);
  // The ids as of the last change, and uploads under way: several files may finish in any order.
  const ids = useRef<string[]>([]);
  const sending = useRef(0);
  useEffect(() => {
    ids.current = asFiles(value, '').map((f) => f.id);
  }, [value]);

  const imagesOnly = Boolean(field.config?.images_only);
  const maxFiles = field.config?.max_files ?? 10;
  const maxMb = field.config?.max_size_mb ?? 10;
  const upload = useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('file', file);
      return api.upload<StoredFile>(apiPath`/api/v1/objects/${object}/fields/${field.api_name}/files`, form);
    },
  });
  const setIds = (next: string[], stored?: FileDescriptor) => {
    const described = [...files, ...(stored ? [stored] : [])].filter((f) => f.content_type);
    setKnown((k) => [...k.filter((f) => !described.some((d) => d.id === f.id)), ...described]);
    ids.current = next;
    onChange(next.length > 0 ? next : null);
  };

  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 6 }}>
      {files.length > 0 && (
        <AttachmentList files={files} thumbnail={imagesOnly ? 64 : 28} onRemove={(file) => setIds(ids.current.filter((i) => i !== file.id))} />
      )}
      <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8 }}>
        <Upload
          id={id}
          multiple={maxFiles > 1}
          accept={imagesOnly ? IMAGE_ACCEPT : undefined}
          showUploadList={false}
          beforeUpload={(file) => {
            if (ids.current.length + sending.current >= maxFiles) {
              message.error(t('field.tooManyFiles', { files: maxFiles }));
              return Upload.LIST_IGNORE;
            }
            if (file.size > maxMb * 1024 * 1024) {
              message.error(errorCodeText(i18n.locale, 'file_too_large') ?? '');
              return Upload.LIST_IGNORE;
            }
            sending.current += 1;
            return true;
          }}
          customRequest={({ file }) => {
            upload
              .mutateAsync(file as File)
              .then((stored) => setIds([...ids.current, stored.id], stored))
              .catch((error: unknown) => message.error(errorMessage(i18n, error)))
              .finally(() => (sending.current -= 1));
          }}
        >
          <Button icon={<UploadOutlined />} loading={upload.isPending} aria-label={ariaLabel} disabled={files.length >= maxFiles}>
            {imagesOnly ? t('field.uploadImage') : t('field.upload')}
          </Button>
        </Upload>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t(imagesOnly ? 'field.imageLimits' : 'field.fileLimits', { files: maxFiles, size: maxMb })}
        </Typography.Text>
      </div>
    </div>
  );
}
