from django.urls import path

from . import feeds, views

app_name = "comments"

urlpatterns = [
    path("stories/<slug:slug>/comment/", views.PostCommentView.as_view(), name="post"),
    path("stories/<slug:slug>/comment/token", views.form_token, name="token"),
    path("comments/<int:pk>/edit/", views.EditCommentView.as_view(), name="edit"),
    path("stories/<slug:slug>/comments/feed/", feeds.StoryCommentsFeed(), name="feed"),
    path(
        "stories/<slug:slug>/comments/feed/atom/",
        feeds.StoryCommentsAtomFeed(),
        name="feed-atom",
    ),
    path("comments/<int:pk>/", views.permalink, name="permalink"),
    path(
        "comments/moderate/<str:action>/<str:token>/",
        views.ModerateFromEmailView.as_view(),
        name="moderate",
    ),
    path(
        "comments/replies/confirm/<str:token>/",
        views.ConfirmReplyEmailsView.as_view(),
        name="replies-confirm",
    ),
    path(
        "comments/replies/mute/<str:token>/",
        views.MuteReplyEmailsView.as_view(),
        name="replies-mute",
    ),
]
