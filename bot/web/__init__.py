"""Static pages (sandbox chat, sponsor portal): plain HTML, CSS and JS, no build step."""
