import { render } from 'preact';
import { App } from './app';
import { takeTokenFromUrl } from './lib/auth';
import { initialLocale, rememberLocale } from './lib/i18n';
import './styles.css';

takeTokenFromUrl();
rememberLocale(initialLocale());
render(<App />, document.getElementById('app')!);
