"""What readers know of the data's freshness: the data version, the change log, the page cache.

dataversion.py reads the version and the change log PostgreSQL triggers keep (migrations
0008 and 0011); cache.py keeps whole public pages until the version moves.
"""
