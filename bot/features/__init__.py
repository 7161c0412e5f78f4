"""The features, one package each: cog and views, service, pure rules, settings and texts."""
