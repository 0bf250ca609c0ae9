import QRCode from 'qrcode';

/** A QR code as a PNG data URL (the portal's CSP allows data: images; no request leaves the page). */
export function qrDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: 264 });
}
