DROP INDEX applications_assigned;
DROP INDEX applications_township;
DROP INDEX offers_school;
DROP INDEX staff_refresh_tokens_staff;
DROP INDEX guardians_unionid;
DROP INDEX applications_family;
DROP INDEX children_guardian;
