from django.urls import path

from . import feeds, live_views, results_views, views

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("stories/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("stories/<slug:slug>/live/stream/", live_views.live_stream, name="live-stream"),
    path("stories/<slug:slug>/live/entries/", live_views.live_entries, name="live-entries"),
    path("preview/<int:pk>/", views.ArticlePreviewView.as_view(), name="preview"),
    path("section/<slug:slug>/", views.SectionView.as_view(), name="section"),
    path("tag/<slug:slug>/", views.TagView.as_view(), name="tag"),
    path("authors/<slug:slug>/", views.AuthorView.as_view(), name="author"),
    path("section/<slug:slug>/feed/", feeds.SectionFeed(), name="section-feed"),
    path("section/<slug:slug>/feed/atom/", feeds.SectionAtomFeed(), name="section-feed-atom"),
    path("tag/<slug:slug>/feed/", feeds.TagFeed(), name="tag-feed"),
    path("tag/<slug:slug>/feed/atom/", feeds.TagAtomFeed(), name="tag-feed-atom"),
    path("feed/", feeds.StoryFeed(), name="feed"),
    path("feed/atom/", feeds.AtomFeed(), name="feed-atom"),
    path("archive/", views.archive_index, name="archive"),
    path(
        "archive/<int:year>/<int:month>/",
        views.ArchiveMonthView.as_view(),
        name="archive-month",
    ),
    path("live/results/stream/", live_views.results_stream, name="live-results-stream"),
    path("results/", results_views.ResultsIndexView.as_view(), name="results"),
    path("results/events/<slug:slug>/", results_views.EventView.as_view(), name="event"),
    path("results/events/<slug:slug>.csv", results_views.event_results_csv, name="event-csv"),
    path("results/<slug:slug>/", results_views.CompetitionView.as_view(), name="competition"),
    path("athletes/<slug:slug>/", results_views.AthleteView.as_view(), name="athlete"),
]
