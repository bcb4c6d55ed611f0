DROP TABLE registration_drafts;
