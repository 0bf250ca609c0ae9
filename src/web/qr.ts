/** A QR code as a PNG data URL (the portal's CSP allows data: images; no request leaves the page). */
export async function qrDataUrl(text: string): Promise<string> {
  // Loaded on the first QR code (registration pages only), not at start.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: 264 });
}
