// Throughgate's start-up for GOV.UK Frontend's components. Every page works
// without it; with it, the error summary takes focus, the menu collapses on
// a phone, and the notification banner is announced.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
