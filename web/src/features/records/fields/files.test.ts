import { describe, expect, it } from 'vitest';
import { asFiles, fileSize, fileUrl, isImage } from './files';

const PNG = { id: 'f1', name: '合同.png', size: 2048, content_type: 'image/png' };

describe('attachment files', () => {
  it('read descriptors and bare ids, and skip anything else', () => {
    expect(asFiles([PNG, 'f2', 7, null], '文件')).toEqual([PNG, { id: 'f2', name: '文件', size: 0, content_type: '' }]);
    expect(asFiles(null, '文件')).toEqual([]);
  });

  it('show the four inline image types as pictures only', () => {
    expect(isImage(PNG)).toBe(true);
    expect(isImage({ ...PNG, content_type: 'image/svg+xml' })).toBe(false);
    expect(isImage({ ...PNG, content_type: 'application/pdf' })).toBe(false);
  });

  it('link to the file by its id, encoded', () => {
    expect(fileUrl('f1')).toBe('/api/v1/files/f1');
    expect(fileUrl('../users')).toBe('/api/v1/files/..%2Fusers');
  });

  it('give sizes in KB or MB', () => {
    expect(fileSize(12)).toBe('1 KB');
    expect(fileSize(12345)).toBe('13 KB');
    expect(fileSize(3 * 1024 * 1024 + 100)).toBe('3.0 MB');
  });
});
