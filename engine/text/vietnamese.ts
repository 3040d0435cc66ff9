// Vietnamese text folded to ASCII, for devices that only take ASCII and for accent-insensitive search.
// NFD splits letters from their tone and vowel marks; đ/Đ do not decompose, so they are mapped by hand.
export function foldVietnamese(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .normalize('NFC');
}
