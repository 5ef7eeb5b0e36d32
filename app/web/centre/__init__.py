"""The privacy centre: the person files a request, proves who they are, follows it and
downloads the answer."""
