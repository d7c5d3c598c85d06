// The dashboard's entry: styles (Leaflet's own included, served by Kerbside, no CDN) and the app.
import 'leaflet/dist/leaflet.css'
import './app.css'
import { mount } from 'svelte'
import App from './App.svelte'

mount(App, { target: document.getElementById('app')! })
