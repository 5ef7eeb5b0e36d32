"""The console: staff log in, work the queue, act on a request, and read the overviews."""
