// Words about a WebGPU adapter for people. Browser-safe.

/** One line about an adapter: device, vendor, architecture, driver description. */
export function describeAdapter(info: GPUAdapterInfo | undefined, backendLabel?: string, featureLevel?: string): string {
  const parts: string[] = [];
  if (info) {
    const who = [info.vendor, info.architecture, info.device].filter((s) => s && s.length).join(' ');
    if (who) parts.push(who);
    if (info.description) parts.push(info.description);
  }
  if (backendLabel) parts.push(backendLabel);
  if (featureLevel) parts.push(`${featureLevel} feature level`);
  return parts.length ? parts.join('; ') : 'unknown adapter';
}
