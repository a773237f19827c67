import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/members/m-1`): the service serves one index.html for the whole console, and a reload or a shared
 * link opens the same screen. The token never rides in a route.
 */
export function currentRoute(): string[] {
  return location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
}

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;
export const navigate = (...parts: string[]): void => {
  location.hash = href(...parts);
};

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    // Effects run after the first paint: a hash changed in between (a link opened, a test's navigation) fired its
    // event before anyone listened, and the screen would stay on the old route.
    update();
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
