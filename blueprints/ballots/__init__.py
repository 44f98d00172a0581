"""民生实事项目票决: candidate collection, meetings with check-in, ballots, tally, projects."""
