from django.core.management.base import BaseCommand

from cases.models import SearchWord
from cases.search import rebuild_search_words


class Command(BaseCommand):
    help = (
        "Rebuild the word list of typo-tolerant search from the published cases, "
        "dropping the words of cases withdrawn or deleted since."
    )

    def handle(self, *args, **options):
        rebuild_search_words()
        self.stdout.write(f"{SearchWord.objects.count()} words.")
