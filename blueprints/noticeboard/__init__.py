"""Noticeboard (公示栏): announcements, the public home page and the Atom feed."""
