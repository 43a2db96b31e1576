// A minimal .npy (format 1.0) encoder for the inputs tests choose.

/** The bytes of a .npy file holding `data` (little-endian, C order) as `descr` (`<f4`, `|b1`, ...). */
export function npyBytes(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // The header (magic, version, length, dict, newline) is padded to a multiple of 64 bytes.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const preamble = Buffer.from([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    header.length & 0xff,
    header.length >> 8,
  ]);
  return Buffer.concat([
    preamble,
    Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]);
}
