// Which of a peer's URLs to use: stick with one that works, move to the next
// after a failure (etcd's urlPicker).
export class UrlPicker {
  private urls: string[];
  private index = 0;

  constructor(urls: readonly string[]) {
    this.urls = [...urls];
  }

  pick(): string {
    if (this.urls.length === 0) throw new Error('peer has no URLs');
    return this.urls[this.index % this.urls.length]!;
  }

  /** The URL failed: the next pick is another one (if there is another). */
  unreachable(url: string): void {
    if (this.urls[this.index % this.urls.length] === url) this.index = (this.index + 1) % this.urls.length;
  }

  update(urls: readonly string[]): void {
    this.urls = [...urls];
    this.index = 0;
  }

  all(): readonly string[] {
    return this.urls;
  }
}
