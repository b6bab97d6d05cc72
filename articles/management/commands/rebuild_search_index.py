from django.core.management.base import BaseCommand

from articles import search
from articles.models import Article


class Command(BaseCommand):
    help = "Rebuild the search index of every article (after bulk loads that skip model signals)."

    def handle(self, *args, **options):
        search.index_articles()
        self.stdout.write(f"Search index rebuilt for {Article.objects.count()} articles.")
