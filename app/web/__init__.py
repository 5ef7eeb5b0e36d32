"""Server-rendered pages in the same process as the API: the privacy centre for the person
(``/personvern/``) and the console for staff (``/console/``). They call the same flows and
use cases as the API; nothing here holds a rule of its own."""
