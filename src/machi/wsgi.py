import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "machi.settings")

# Anonymous public site pages are answered from memory before Django's middleware
# (machi.site.pagecache); MACHI_PAGE_CACHE=0 turns it off.
from machi.site.pagecache import page_cache_from_settings

application = page_cache_from_settings(get_wsgi_application())
